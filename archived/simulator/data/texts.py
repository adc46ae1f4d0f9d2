"""Fixed texts of the seeded site: the lorem-ipsum group description the data generator wrote."""

LOREM_PARAGRAPHS = (
    (
        "Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Nulla non arcu lacinia neque faucibus "
        "fringilla. Vivamus porttitor turpis ac leo. Integer in sapien. Nullam eget nisl. Aliquam erat "
        "volutpat. Cras elementum. Mauris suscipit, ligula sit amet pharetra semper, nibh ante cursus purus, "
        "vel sagittis velit mauris vel metus. Integer malesuada. Nullam lectus justo, vulputate eget mollis "
        "sed, tempor sed magna. Mauris elementum mauris vitae tortor. Aliquam erat volutpat."
    ),
    (
        "Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et "
        "voluptates repudiandae sint et molestiae non recusandae. Pellentesque ipsum. Cras pede libero, "
        "dapibus nec, pretium sit amet, tempor quis. Aliquam ante. Proin in tellus sit amet nibh dignissim "
        "sagittis. Vivamus porttitor turpis ac leo. Duis bibendum, lectus ut viverra rhoncus, dolor nunc "
        "faucibus libero, eget facilisis enim ipsum id lacus. In sem justo, commodo ut, suscipit at, pharetra"
        " vitae, orci. Aliquam erat volutpat. Nulla est."
    ),
    (
        "Vivamus luctus egestas leo. Aenean fermentum risus id tortor. Mauris dictum facilisis augue. Aliquam"
        " erat volutpat. Aliquam ornare wisi eu metus. Aliquam id dolor. Duis condimentum augue id magna "
        "semper rutrum. Donec iaculis gravida nulla. Pellentesque ipsum. Etiam dictum tincidunt diam. Quisque"
        " tincidunt scelerisque libero. Etiam egestas wisi a erat."
    ),
    (
        "Integer lacinia. Cum sociis natoque penatibus et magnis dis parturient montes, nascetur ridiculus "
        "mus. Mauris tincidunt sem sed arcu. Nullam feugiat, turpis at pulvinar vulputate, erat libero "
        "tristique tellus, nec bibendum odio risus sit amet ante. Aliquam id dolor. Maecenas sollicitudin. Et"
        " harum quidem rerum facilis est et expedita distinctio. Mauris suscipit, ligula sit amet pharetra "
        "semper, nibh ante cursus purus, vel sagittis velit mauris vel metus. Nullam dapibus fermentum ipsum."
        " Pellentesque habitant morbi tristique senectus et netus et malesuada fames ac turpis egestas. Nemo "
        "enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugit, sed quia consequuntur magni "
        "dolores eos qui ratione voluptatem sequi nesciunt. Pellentesque sapien. Duis risus. Mauris elementum"
        " mauris vitae tortor. Suspendisse nisl. Integer rutrum, orci vestibulum ullamcorper ultricies, lacus"
        " quam ultricies odio, vitae placerat pede sem sit amet enim."
    ),
    (
        "In laoreet, magna id viverra tincidunt, sem odio bibendum justo, vel imperdiet sapien wisi sed "
        "libero. Proin pede metus, vulputate nec, fermentum fringilla, vehicula vitae, justo. Nullam justo "
        "enim, consectetuer nec, ullamcorper ac, vestibulum in, elit. Quis autem vel eum iure reprehenderit "
        "qui in ea voluptate velit esse quam nihil molestiae consequatur, vel illum qui dolorem eum fugiat "
        "quo voluptas nulla pariatur? Maecenas lorem. Etiam posuere lacus quis dolor. Class aptent taciti "
        "sociosqu ad litora torquent per conubia nostra, per inceptos hymenaeos. Curabitur ligula sapien, "
        "pulvinar a vestibulum quis, facilisis vel sapien. Nam sed tellus id magna elementum tincidunt. "
        "Suspendisse nisl. Vivamus luctus egestas leo. Nulla non arcu lacinia neque faucibus fringilla. Etiam"
        " dui sem, fermentum vitae, sagittis id, malesuada in, quam. Etiam dictum tincidunt diam. Etiam "
        "commodo dui eget wisi. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugit, "
        "sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Proin pede metus, "
        "vulputate nec, fermentum fringilla, vehicula vitae, justo. Duis ante orci, molestie vitae vehicula "
        "venenatis, tincidunt ac pede. Pellentesque sapien."
    ),
)
